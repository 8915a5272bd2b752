"""The free-memory estimate that large images are checked against."""

from sr_core import memory


def test_available_memory_from_meminfo(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", meminfo)
    assert memory.available_bytes() == 8000000 * 1024


def test_without_meminfo_half_the_physical_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "none")
    free = memory.available_bytes()
    assert free is None or 0 < free < 2**50
