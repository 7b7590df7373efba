<?php
declare(strict_types=1);

namespace SnipShop\Compat\Search;

use SnipShop\Compat\Query;

/** What the pages need from a search engine (search/port.py, the read half). */
interface SearchIndex
{
    public function query(Query $query): Result;

    /** @return array<string, true> brand and every attribute code of the live generation */
    public function facetNames(): array;

    /** @return list<array{0: string, 1: string}> (sku, name) suggestions */
    public function suggest(string $text, string $locale, int $limit = 8): array;
}
