source: conf/local.php
