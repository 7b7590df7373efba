<?php
declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use SnipShop\Compat\Config;
use SnipShop\Compat\Request;
use SnipShop\Compat\Trace;

/** X-Request-Id, X-Revision and X-Generation by the edge's rules (web/revision.py). */
final class TraceTest extends TestCase
{
    /** @return array<string, array{string}> */
    public static function saneIds(): array
    {
        return [
            'word' => ['trace-9'],
            'every allowed character' => ['Az09._:-'],
            'a uuid' => ['0b6f3c1e-7d2a-4c55-9a0e-3f1d2b4c5a6e'],
            'one character' => ['x'],
            '128 characters' => [str_repeat('a', 128)],
        ];
    }

    /** @dataProvider saneIds */
    public function testASaneIdIsEchoed(string $given): void
    {
        $this->assertSame($given, Trace::requestId($given));
    }

    /** @return array<string, array{?string}> */
    public static function otherIds(): array
    {
        return [
            'none sent' => [null],
            'empty' => [''],
            '129 characters' => [str_repeat('a', 129)],
            'a space' => ['bad id'],
            'two joined' => ['a,b'],
            'markup' => ['<script>'],
            'a newline after it' => ["trace-9\n"],
            'a newline before it' => ["\ntrace-9"],
            'Latin-1' => ["\xfcber"],
            'UTF-8' => ['über'],
            'a slash' => ['a/b'],
        ];
    }

    /** @dataProvider otherIds */
    public function testAnythingElseGetsAFreshId(?string $given): void
    {
        $id = Trace::requestId($given);
        $this->assertMatchesRegularExpression('/\A[0-9a-f]{32}\z/', $id);
        $this->assertNotSame($given, $id);
    }

    public function testFreshIdsDiffer(): void
    {
        $this->assertNotSame(Trace::requestId(null), Trace::requestId(null));
    }

    public function testTheIdComesFromTheRequestHeader(): void
    {
        $this->assertSame('trace-9', Request::fromServer(['REQUEST_URI' => '/', 'HTTP_X_REQUEST_ID' => 'trace-9'])->requestId);
        $this->assertNull(Request::fromServer(['REQUEST_URI' => '/'])->requestId);
    }

    public function testHeaders(): void
    {
        $this->assertSame(['X-Revision' => 'abc123', 'X-Request-Id' => 'r1', 'X-Generation' => '42'], Trace::headers('abc123', 'r1', 42));
        $this->assertSame('none', Trace::headers('abc123', 'r1', null)['X-Generation']);
    }

    public function testTheRevisionComesFromTheEnvironment(): void
    {
        $this->assertSame('f00d', Config::fromEnvironment(['SNIPSHOP_REVISION' => 'f00d'])->revision);
        $this->assertSame('unknown', Config::fromEnvironment(['SNIPSHOP_REVISION' => ''])->revision);
        $this->assertSame('unknown', Config::fromEnvironment([])->revision);
    }
}
