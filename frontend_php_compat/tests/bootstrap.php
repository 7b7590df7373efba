<?php
declare(strict_types=1);

require dirname(__DIR__) . '/src/autoload.php';

/** The repository's root (tests read its shared fixtures under tests/fixtures/). */
function repository_root(): string
{
    return dirname(__DIR__, 2);
}

/** A JSON fixture of the repository, decoded. */
function fixture(string $path): array
{
    $text = file_get_contents(repository_root() . '/' . $path);
    if ($text === false) {
        throw new RuntimeException("missing fixture {$path}");
    }
    return json_decode($text, true, 512, JSON_THROW_ON_ERROR);
}
