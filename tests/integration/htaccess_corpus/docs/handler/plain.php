source: handler/plain.php
