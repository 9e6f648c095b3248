<?php
// The corpus's echo script: which script ran, and with which PATH_INFO,
// QUERY_STRING and REQUEST_URI; the HT_* variables that rewrite rules and
// SetEnv set (an internal redirect's REDIRECT_ prefixes stripped: Apache
// adds them, applications read either); and the PHP settings named in
// ?ini=a,b (php_value, php_flag).
header("Content-Type: text/plain");
$root = rtrim(realpath($_SERVER["DOCUMENT_ROOT"]), "/");
echo "script: ", substr(realpath(__FILE__), strlen($root)), "\n";
foreach (array("PATH_INFO", "QUERY_STRING", "REQUEST_URI", "REMOTE_USER") as $k)
	echo $k, "=", isset($_SERVER[$k]) ? $_SERVER[$k] : "(unset)", "\n";
$env = array();
foreach ($_SERVER as $k => $v)
	if (preg_match('/^(REDIRECT_)*(HT_\w+)$/', $k, $m))
		$env[$m[2]] = $v;
ksort($env);
foreach ($env as $k => $v)
	echo "env ", $k, "=", $v, "\n";
if (isset($_GET["ini"]))
	foreach (explode(",", $_GET["ini"]) as $k)
		echo "ini ", $k, "=", var_export(ini_get($k), true), "\n";
