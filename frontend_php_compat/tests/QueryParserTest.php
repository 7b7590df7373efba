<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\QueryParser;
use SnipShop\Compat\Shared;

/** Shopper parameters to a query: bad values ignored or clamped (search/query.py). */
final class QueryParserTest extends TestCase
{
    private const FACETS = ['brand' => true, 'color' => true, 'size' => true, 'q' => true];

    public function testClampsPagesAndPageSizes(): void
    {
        $limits = Shared::get('query');
        $q = QueryParser::parse(['per_page' => ['1000'], 'page' => ['-3']], 'en_US', 'EUR', self::FACETS);
        $this->assertSame($limits['max_per_page'], $q->perPage);
        $this->assertSame(1, $q->page);
        $far = QueryParser::parse(['page' => ['99999999999999999999']], 'en_US', 'EUR', self::FACETS);
        $this->assertTrue($far->pastWindow);
        $this->assertSame(intdiv($limits['max_result_window'], $limits['default_per_page']), $far->page);
        $junk = QueryParser::parse(['page' => ['two'], 'per_page' => [' 12 '], 'sort' => ['cheapest']], 'en_US', 'EUR', self::FACETS);
        $this->assertSame([1, 12, 'relevance'], [$junk->page, $junk->perPage, $junk->sort]);
    }

    public function testPriceRangesByTheMoneyRule(): void
    {
        $this->assertSame(['10', '49.99'], QueryParser::priceRange('49.99-010'));
        $this->assertSame(['0.5', null], QueryParser::priceRange('00.5-'));
        $this->assertSame([null, '7'], QueryParser::priceRange('-7'));
        $this->assertSame([null, '5'], QueryParser::priceRange('1e3-5'));
        $this->assertSame([null, null], QueryParser::priceRange('-5-'));
        $this->assertSame([null, null], QueryParser::priceRange('12'));
        $this->assertSame(['10', null], QueryParser::priceRange('10-49.999'));
    }

    public function testFiltersOfKnownFacetsOnly(): void
    {
        $q = QueryParser::parse(
            ['size' => ['M', ' M ', '', str_repeat('x', 101)], 'color' => ['Red'], 'utm_source' => ['x'], 'q' => ['shoe']],
            'en_US', 'EUR', self::FACETS,
        );
        $this->assertSame(['color' => ['Red'], 'size' => ['M']], $q->filters);
        $this->assertSame(['q' => ['shoe'], 'color' => ['Red'], 'size' => ['M']], $q->params());
    }

    public function testSearchTextIsCut(): void
    {
        $limits = Shared::get('query');
        $words = implode(' ', array_map(static fn ($i) => "w{$i}", range(1, 30)));
        $text = QueryParser::searchText("  {$words}  ");
        $this->assertSame($limits['max_words'], count(explode(' ', $text)));
        $this->assertSame($limits['max_text'], mb_strlen(QueryParser::searchText(str_repeat('é', 500))));
    }
}
