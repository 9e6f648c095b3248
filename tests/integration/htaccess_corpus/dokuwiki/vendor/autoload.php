source: vendor/autoload.php
