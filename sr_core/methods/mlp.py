"""The plain MLP of the LIIF code base (``imnet``), with its state-dict layout."""

from __future__ import annotations

from torch import Tensor, nn

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}


class MLP(nn.Module):
    """``Linear → act → … → Linear``; linear layers sit at ``layers.{0,2,4,…}``."""

    def __init__(self, in_dim: int, out_dim: int, hidden: list[int], act: str = "relu") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        last = in_dim
        for width in hidden:
            layers += [nn.Linear(last, width), ACTIVATIONS[act]()]
            last = width
        layers.append(nn.Linear(last, out_dim))
        self.layers = nn.Sequential(*layers)

    @property
    def first(self) -> nn.Linear:
        return self.layers[0]

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)

    def after_first(self, h: Tensor) -> Tensor:
        """Everything after the first linear layer (its activation included)."""
        return self.layers[1:](h)
