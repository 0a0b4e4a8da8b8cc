"""Dev-set protocols: which real curves a law is fitted on and which it must predict, defined once
for the tests, the benchmarks and the docs.

- ``MPL_25M``: the published protocol of the multi-power law (Luo et al. 2025, Sec. 4.2 / Table 2)
  on their 25M-parameter runs: fit on cosine_24000, constant_24000 and wsdcon_9, predict the other
  six, with the warmup of 2160 steps that precedes the first logged point. Published figures of the
  multi-power law on the held-out curves: PredE 0.00110, WorstE 0.00409.
- ``SCHAIPP_124M``: the 124M-parameter runs of Schaipp, Hägele et al. (2025) at peak LR 1e-3, as a
  user would run them: fit on constant, cosine and the 20% linear cooldown, predict the six other
  cooldown lengths; the question is which cooldown is best (real best: 60%, final loss 2.9165).

The curve files live in ``../shared/data/loss-curves/<folder>`` (never copied into the repository).
"""
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
    warmup_steps: int | None = None
    #: published multi-power-law figures on the held-out curves (PredE, WorstE), where there are any
    published: dict | None = None

    def paths(self, root: str | Path, names) -> list[Path]:
        return [Path(root) / f"{n}.csv" for n in names]

    def fit_scaling_args(self, root: str | Path) -> list[str]:
        """The ``cltk fit-scaling`` arguments of this protocol (without ``--law``/``--out``)."""
        warmup = ["--warmup-steps", str(self.warmup_steps)] if self.warmup_steps is not None else []
        return [*map(str, self.paths(root, self.fit)), "--predict", *map(str, self.paths(root, self.heldout)), *warmup]


MPL_25M = Protocol("mpl-25m", "mpl-25m", fit=("cosine_24000", "constant_24000", "wsdcon_9"),
                   heldout=("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3",
                            "wsdcon_18"), warmup_steps=2160, published={"pred_e": 0.00110, "worst_e": 0.00409})

SCHAIPP_124M = Protocol("schaipp-124m", "schaipp-124m-lr1e-3", fit=("constant", "cosine", "wsd_linear_0.2"),
                        heldout=tuple(f"wsd_linear_{f}" for f in ("0.1", "0.4", "0.6", "0.8", "0.9", "0.994")))

#: every protocol, by curve-set folder
PROTOCOLS = {p.folder: p for p in (MPL_25M, SCHAIPP_124M)}


def find_protocol(folder: str | Path) -> Protocol | None:
    """The protocol of a curve-set folder: its own, or that of its family (another model size of
    Luo et al., ``mpl-*``; another peak LR of Schaipp et al., ``schaipp-124m-*``) when the folder
    holds the same file names. The warmup is then left to the readers (it ends at the first logged
    step, as in every set of these families)."""
    folder = Path(folder)
    if folder.name in PROTOCOLS:
        return PROTOCOLS[folder.name]
    for proto in PROTOCOLS.values():
        family = proto.folder.split("-")[0]
        if folder.name.startswith(family + "-") and all(p.is_file() for p in proto.paths(folder, proto.fit
                                                                                      + proto.heldout)):
            return dataclasses.replace(proto, name=folder.name, folder=folder.name, warmup_steps=None,
                                       published=None)
    return None
