"""Keep only what can matter of a parsed file: the declarations of everything else.

Most of a real module is IAM, DNS, load balancers, buckets, provider settings: nothing sglint
evaluates. Every file is still parsed in full (a syntax error anywhere is still reported, as
it always was), but what is kept, cached and held in memory for such blocks is a stub: the
block's type, labels and line span, and its `count`/`for_each`.

Why a stub is enough, and nothing changes (findings, diagnostics, `sglint show`):
- The evaluator builds resource instances only for the resource types it is asked for
  (`model.RESOURCE_TYPES` plus `ReadOptions.extra_types`); those blocks are kept whole, and
  so are `helm_release` resources, where a Calico installation's settings live.
- A reference to any other resource or data source (`aws_subnet.x.id`,
  `data.aws_vpc.y.id`, `aws_iam_instance_profile.z.name`) needs only that it is declared,
  its address, and its `count`/`for_each`, which decide whether it is one object, a list
  or a map (and may themselves name variables or locals: they are kept whole).
- `terraform`, `provider`, `import`, `check` and `removed` blocks are never read by any
  stage; variables, locals, outputs, module calls and `moved` blocks (`sglint diff` matches
  renamed resources by them) are always kept whole, and so is any block type this list does
  not know.
- The `sglint:` directive comments come from the file's text, not from its blocks.

tests/test_prune.py runs every fixture, example and a generated monorepo both ways and
compares the JSON reports, the `show` output and the diagnostics.
"""

from __future__ import annotations

from typing import AbstractSet

from calico_sglint.terraform.syntax import Block, Body

KEPT_WHOLE = frozenset({"variable", "locals", "output", "module", "moved"})
ALWAYS_WHOLE_TYPES = frozenset({"helm_release"})  # read for the Calico profile (its values)
DECLARING = frozenset({"resource", "data"})  # stubs keep count/for_each
NEVER_READ = frozenset({"terraform", "provider", "import", "check", "removed"})
EXPANSION = ("count", "for_each")


def prune_body(body: Body, wanted: AbstractSet[str]) -> Body:
    """`body` (a file's top level) with blocks that cannot matter reduced to stubs;
    `wanted` holds the resource and data source types to keep whole."""
    blocks = tuple(_pruned(block, wanted) for block in body.blocks)
    if all(new is old for new, old in zip(blocks, body.blocks)):
        return body
    return Body(body.attributes, blocks)


def _pruned(block: Block, wanted: AbstractSet[str]) -> Block:
    if block.type in DECLARING:
        if block.labels and (block.labels[0] in wanted or block.labels[0] in ALWAYS_WHOLE_TYPES):
            return block
        attributes = {n: a for n, a in block.body.attributes.items() if n in EXPANSION}
        return _stub(block, Body(attributes, ()))
    if block.type in NEVER_READ:
        return _stub(block, Body({}, ()))
    return block  # variables, locals, outputs, module calls, and anything unknown


def _stub(block: Block, body: Body) -> Block:
    if not block.body.blocks and len(body.attributes) == len(block.body.attributes):
        return block  # nothing to drop
    return Block(block.type, block.labels, body, block.line, block.end_line)
