source: core/js/main.js
