source: program/js/app.js
