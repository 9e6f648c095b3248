source: wp-content/plugins/akismet/akismet.js
