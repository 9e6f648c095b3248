source: w/includes/Setup.php
