<?php
// The floor of the PHP benchmark (bench/php.py): hello world through the same nginx and php-fpm
// as the PHP front end. No page of the PHP front end can be faster than this.
echo 'Hello, World!';
