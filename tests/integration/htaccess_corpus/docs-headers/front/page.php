<?php
// Fields a script writes, for the .htaccess beside it to change.
header("X-Powered-By: corpus-php");
header("Cache-Control: private");
header("X-Script: foo boo");
setcookie("corpus", "1");
header("Content-Type: text/plain");
echo "source: front/page.php\n";
