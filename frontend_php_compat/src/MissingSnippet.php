<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** A snippet the page cannot do without is not in the store. */
final class MissingSnippet extends \RuntimeException
{
}
