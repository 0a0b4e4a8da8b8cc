"""Dev-set protocols: which real curves a law is fitted on and which it must predict, defined once
for the tests, the benchmarks and the docs.

``MPL_25M`` is the published protocol of the multi-power law (Luo et al. 2025, Sec. 4.2 / Table 2)
on their 25M-parameter runs: fit on cosine_24000, constant_24000 and wsdcon_9, predict the other
six, with the warmup of 2160 steps that precedes the first logged point. The curve files live in
``../shared/data/loss-curves/mpl-25m`` (never copied into the repository)."""
from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A fit / held-out split of one curve set (file stems under ``<data root>/<folder>``)."""

    name: str
    folder: str
    fit: tuple[str, ...]
    heldout: tuple[str, ...]
    warmup_steps: int

    def paths(self, root: str | Path, names) -> list[Path]:
        return [Path(root) / f"{n}.csv" for n in names]

    def fit_scaling_args(self, root: str | Path) -> list[str]:
        """The ``cltk fit-scaling`` arguments of this protocol (without ``--law``/``--out``)."""
        return [*map(str, self.paths(root, self.fit)), "--predict", *map(str, self.paths(root, self.heldout)),
                "--warmup-steps", str(self.warmup_steps)]


MPL_25M = Protocol("mpl-25m", "mpl-25m", fit=("cosine_24000", "constant_24000", "wsdcon_9"),
                   heldout=("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3",
                            "wsdcon_18"), warmup_steps=2160)
