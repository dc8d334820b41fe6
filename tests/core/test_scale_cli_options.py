"""Options the Dask engine cannot honour are refused by `activelab new`, never silently
replaced (issue 13): one paragraph, exit 1, no project folder."""
from __future__ import annotations

from activelab.core.cli.main import main


def test_pixel_image_features_are_refused_on_the_dask_engine(tmp_path, capsys):
    code = main(["new", str(tmp_path / "p"), "--data", str(tmp_path / "pool" / "*.parquet"),
                 "--engine", "dask", "--image-features", "pixels"])
    err = capsys.readouterr().err
    assert code == 1
    assert "EfficientNet-Lite0 only" in err and "--image-features pixels" in err
    assert "Traceback" not in err
    assert not (tmp_path / "p").exists()
