source: w/maintenance/update.php
