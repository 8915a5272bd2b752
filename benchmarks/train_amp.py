"""One training step of the UltraSR CPU recipe in float32 and under bf16 autocast.

    python -m benchmarks.train_amp [--images DIR] [--threads 2] [--rounds 10]

The recipe ``zoomsr/ultrasr-edsr`` (docs/TRAINING.md, "Training on a CPU"): UltraSR
warm-started from the shipped LIIF, frozen encoder, batch 8 × 1024 HR pixels from
``--images`` (the first 16 photographs are enough). Prints, on 6 batches with the same
weights, the loss and gradient differences of bf16 autocast from float32; then the time of a
step (forward, backward, Adam at lr 0) both ways, interleaved round by round so that a busy
machine slows both alike: best and median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from sr_core.architectures import build
from sr_core.display_precision import native_bf16
from sr_core.registry import load_method
from training.images import ImageStore
from training.objectives import QueryModel, predict
from training.recipe import load_recipe
from training.sampling import TrainingBatches
from training.warm_start import warm_start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=Path, default=Path("../shared/data/train/bsds400"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"native bf16: {native_bf16(torch.device('cpu'))}")
    phase = load_recipe("zoomsr/ultrasr-edsr").phases[0]
    with tempfile.TemporaryDirectory() as tmp:
        for photo in sorted(args.images.glob("*.jpg"))[:16]:
            (Path(tmp) / photo.name).symlink_to(photo.resolve())
        store, _ = ImageStore.load([Path(tmp)])
    batches = TrainingBatches(store, phase.sampler, seed=0, phase=0, batch=phase.optim.batch)
    data = [batches[i] for i in range(6)]

    method = build("ultrasr", {})
    warm_start(load_method("liif")[0], method)
    for name, p in method.named_parameters():
        p.requires_grad_(not name.startswith(tuple(phase.optim.freeze)))
    model = QueryModel(method.train())
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=0.0)  # lr 0: the same weights at every step

    def step(batch: dict, amp: bool) -> tuple[float, torch.Tensor]:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            pred = predict(model, batch)
        loss = F.l1_loss(pred.float(), batch["gt"])
        loss.backward()
        optimizer.step()
        return loss.item(), torch.cat([p.grad.flatten() for p in params])

    for batch in data:
        (l32, g32), (l16, g16) = step(batch, False), step(batch, True)
        print(f"loss float32 {l32:.6f} bf16 {l16:.6f} ({abs(l16 - l32) / l32:.2e} relative); "
              f"gradient error {float((g16 - g32).norm() / g32.norm()):.3f} of its norm, "
              f"cosine {float(F.cosine_similarity(g16, g32, dim=0)):.4f}")
    times: dict[bool, list[float]] = {False: [], True: []}
    for r in range(args.rounds):
        for amp in (False, True) if r % 2 == 0 else (True, False):
            start = time.perf_counter()
            step(data[r % len(data)], amp)
            times[amp].append(time.perf_counter() - start)
    best, median = {}, {}
    for amp, name in ((False, "float32"), (True, "bf16")):
        ts = sorted(times[amp][1:] or times[amp])  # the first of each is a warm-up
        best[amp], median[amp] = ts[0], ts[len(ts) // 2]
        print(f"{name}: best {1e3 * best[amp]:.0f} ms, median {1e3 * median[amp]:.0f} ms per step")
    print(f"bf16 speed-up: {median[False] / median[True]:.2f}x median, {best[False] / best[True]:.2f}x best")


if __name__ == "__main__":
    main()
