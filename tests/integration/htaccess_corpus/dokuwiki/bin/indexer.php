source: bin/indexer.php
