<?php
// Front controller of the PHP front end: every shopper route of the edge, from the same
// snippets and the same search engine. With `php -S HOST:PORT -t frontend_php_compat/public
// frontend_php_compat/public/index.php` or behind php-fpm.
declare(strict_types=1);

require dirname(__DIR__) . '/src/autoload.php';

ini_set('default_mimetype', '');
$request = SnipShop\Compat\Request::fromServer($_SERVER);
SnipShop\Compat\App::fromEnvironment()->handle($request)->send($request->method);
