<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/**
 * The edge's static files (web/edge/static: the stylesheet) with the types Flask gives them.
 * Behind nginx these never reach PHP (nginx serves them); `php -S` asks here.
 */
final class StaticFiles
{
    private const TYPES = ['css' => 'text/css; charset=utf-8', 'svg' => 'image/svg+xml', 'png' => 'image/png', 'ico' => 'image/vnd.microsoft.icon'];

    /** The file's response, or null when ``$path`` names no file there. */
    public static function response(string $path, string $directory): ?Response
    {
        $relative = substr($path, strlen('/static/'));
        if ($relative === '' || str_contains($relative, "\0")) {
            return null;
        }
        foreach (explode('/', $relative) as $segment) {
            if ($segment === '' || $segment === '.' || $segment === '..') {
                return null;
            }
        }
        $file = $directory . '/' . $relative;
        if (!is_file($file)) {
            return null;
        }
        $type = self::TYPES[strtolower(pathinfo($file, PATHINFO_EXTENSION))] ?? 'application/octet-stream';
        $response = new Response((string) file_get_contents($file), 200, $type);
        $response->headers['Cache-Control'] = 'no-cache';
        $response->headers['Last-Modified'] = gmdate('D, d M Y H:i:s', (int) filemtime($file)) . ' GMT';
        return $response;
    }
}
