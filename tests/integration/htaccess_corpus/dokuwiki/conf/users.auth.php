source: conf/users.auth.php
