source: handler/plain.php <?php echo "(this ran as PHP)"; ?>
