"""LIIF coordinate conventions on integer indices."""

import torch

from sr_core.coords import Queries, home_index, make_coord, nearest_index


def test_make_coord_matches_spec():
    assert torch.allclose(make_coord(4), torch.tensor([-0.75, -0.25, 0.25, 0.75]))


def test_nearest_index_matches_grid_sample():
    n = 7
    coord = torch.linspace(-1.2, 1.2, 997)
    table = torch.arange(n, dtype=torch.float32).view(1, 1, 1, n)
    grid = torch.stack([coord, torch.zeros_like(coord)], -1).view(1, 1, -1, 2)
    sampled = torch.nn.functional.grid_sample(table, grid, mode="nearest", align_corners=False,
                                              padding_mode="border").view(-1)
    inside = (coord > -1) & (coord < 1)
    assert torch.equal(nearest_index(coord, n)[inside], sampled[inside].long())


def test_home_index_is_the_lr_pixel_containing_the_centre():
    for lr_n, out_n in [(5, 17), (10, 10), (7, 3), (23, 260)]:
        i = torch.arange(out_n)
        home = home_index(i, out_n, lr_n)
        centre = (i + 0.5) / out_n * lr_n  # in LR pixel units
        assert torch.all(home <= centre) and torch.all(centre < home + 1)


def test_queries_grid_and_split():
    q = Queries.grid(10, 12, (2, 5), (3, 7))
    assert q.iy.shape == (1, 12)
    assert q.iy[0, :4].tolist() == [2, 2, 2, 2] and q.ix[0, :4].tolist() == [3, 4, 5, 6]
    coord = q.coord()
    assert torch.allclose(coord[0, 0], torch.tensor([-1 + 5 / 10, -1 + 7 / 12]))
    assert torch.allclose(q.cell(), torch.tensor([[[2 / 10, 2 / 12]]]))
    parts = q.split(5)
    assert [p.iy.shape[1] for p in parts] == [5, 5, 2]
    assert torch.equal(torch.cat([p.ix for p in parts], 1), q.ix)
