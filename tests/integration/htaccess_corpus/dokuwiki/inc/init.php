source: inc/init.php
