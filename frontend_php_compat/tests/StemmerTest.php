<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Search\TextAnalysis;
use SnipShop\Compat\Shared;

/**
 * The PHP Snowball stemmers (src/Snowball/, translated from Python's snowballstemmer) against
 * the Python side's stems (tests/fixtures/stems.json, written by tools/php_shared.py): every word
 * of the demo catalog per locale, and for every algorithm the index uses a sample built from its
 * suffix tables.
 */
final class StemmerTest extends TestCase
{
    public function testStemsOfTheDemoCatalog(): void
    {
        $count = 0;
        foreach (fixture('frontend_php_compat/tests/fixtures/stems.json')['catalog'] as $locale => $vectors) {
            $this->assertSame($vectors['algorithm'], TextAnalysis::stemmerFor($locale));
            $words = array_map('strval', array_keys($vectors['stems']));
            $this->assertSame(array_values($vectors['stems']), TextAnalysis::stems($words, $vectors['algorithm']), $locale);
            $count += count($words);
        }
        $this->assertGreaterThan(2000, $count);
    }

    public function testEveryAlgorithmOfTheIndex(): void
    {
        $samples = fixture('frontend_php_compat/tests/fixtures/stems.json')['algorithms'];
        $algorithms = array_values(array_unique(Shared::get('text')['snowball']));
        sort($algorithms);
        $this->assertSame($algorithms, array_keys($samples));
        foreach ($samples as $algorithm => $stems) {
            $words = array_map('strval', array_keys($stems));
            $this->assertGreaterThan(100, count($words), $algorithm);
            $this->assertSame(array_values($stems), TextAnalysis::stems($words, $algorithm), $algorithm);
        }
    }

    public function testShortAndNonLetterWordsAreKept(): void
    {
        $this->assertSame(['go', 'x2s', 'run'], TextAnalysis::stems(['go', 'x2s', 'running'], 'english'));
        $this->assertSame(['running'], TextAnalysis::stems(['running'], null));
    }
}
