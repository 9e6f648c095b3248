source: program/include/iniset.php
