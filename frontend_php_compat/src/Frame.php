<?php
declare(strict_types=1);

namespace SnipShop\Compat;

/** A page frame: head SLOT middle SLOT tail (web/edge/pages.py Frame). */
final class Frame
{
    public function __construct(public readonly string $head, public readonly string $middle, public readonly string $tail)
    {
    }

    /** ``$title`` must already be HTML-escaped. */
    public function wrap(string $title, string $body): string
    {
        return $this->head . $title . $this->middle . $body . $this->tail;
    }

    /** The frame with <link rel="canonical"> to ``$path`` in its head. */
    public function withCanonical(string $path): self
    {
        $link = '<link rel="canonical" href="' . Html::escape($path) . "\">\n";
        $at = strpos($this->middle, '</head>');
        $middle = $at === false ? $this->middle : substr_replace($this->middle, $link . '</head>', $at, strlen('</head>'));
        return new self($this->head, $middle, $this->tail);
    }
}
