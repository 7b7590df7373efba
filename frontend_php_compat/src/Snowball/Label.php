<?php
declare(strict_types=1);

namespace SnipShop\Compat\Snowball;

/** A jump out of a block of a generated stemmer (Python's ``raise labN()``); ``$n`` names the block. */
final class Label extends \Exception
{
    public function __construct(public readonly int $n)
    {
        parent::__construct('', 0);
    }
}
