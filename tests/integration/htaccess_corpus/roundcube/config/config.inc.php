source: config/config.inc.php
