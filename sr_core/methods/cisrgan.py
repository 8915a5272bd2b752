"""CiSRGAN: LIIF's architecture with weights trained adversarially (its own method, no own code)."""

from __future__ import annotations

from dataclasses import replace

from sr_core.methods import liif

SPEC = replace(
    liif.SPEC, name="cisrgan", display_name="CiSRGAN",
    paper="CiSRGAN — LIIF generator trained with a relativistic GAN and a VGG loss (iSarmad/CiSRGAN)",
    official_name=None, published=None, recipe="zoomsr/cisrgan-edsr", perceptual=True)
