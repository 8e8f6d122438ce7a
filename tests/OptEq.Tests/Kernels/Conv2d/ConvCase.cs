using OptEq.Kernels;

namespace OptEq.Tests.Kernels;

/// <summary>
/// A convolution test case written as "batch:Cin×H×W→Cout:KH×KW/sS/pP[c]" (c: circular padding), e.g. "3:5×7×5→3:3×3/s2/p1c",
/// so that a failing case names itself. The cases are small enough for ILGPU's CPU simulator.
/// </summary>
internal static class ConvCase
{
    /// <summary>Awkward shapes: 1×1 images, odd sizes, stride 2 on odd inputs, one channel, prime channel counts, 1×1, 3×3, 5×5 and 2×3 kernels, padding 0/1/2 zero and circular, batch 1 and 3.</summary>
    public static readonly string[] Awkward =
    [
        "1:1×1×1→1:1×1/s1/p0",
        "3:1×1×1→2:3×3/s1/p1",
        "3:1×1×1→2:3×3/s1/p1c",
        "1:3×5×7→5:3×3/s1/p1",
        "3:3×5×7→5:3×3/s1/p1c",
        "3:5×7×5→3:3×3/s2/p1",
        "2:5×7×5→3:3×3/s2/p1c",
        "1:7×6×5→3:5×5/s1/p2",
        "3:2×6×5→3:5×5/s2/p2c",
        "3:3×5×6→7:2×3/s1/p0",
        "2:3×4×5→2:2×3/s2/p1c",
        "3:7×4×4→5:1×1/s1/p0",
        "2:3×5×5→4:1×1/s2/p0",
        "1:1×5×5→1:5×5/s1/p0",
        "2:3×3×3→2:3×3/s1/p2",
        "1:2×2×2→3:3×3/s1/p2c",
        "2:5×6×7→9:3×3/s1/p1c", // native direct path both ways: 4-channel blocks and a remainder, wrapped border
        // Native stride-2 direct (polyphase) path: ≥ 4 channels both ways, odd and even padded sizes, short phases, a 1×1
        // kernel (a phase with no taps), 5×5 and 2×3 kernels, padding 0/1/2 zero and circular.
        "3:4×7×9→5:3×3/s2/p1",
        "1:5×7×9→5:3×3/s2/p1c",
        "3:4×7×9→5:5×5/s2/p2",
        "1:4×7×9→6:5×5/s2/p2c",
        "3:5×7×9→5:2×3/s2/p0",
        "1:4×8×6→5:2×3/s2/p1c",
        "3:6×5×4→4:3×3/s2/p0",
        "1:4×2×3→5:3×3/s2/p2c",
        "2:5×6×5→4:1×1/s2/p1",
        // Native stride-1 weight gradient with few input channels (direct, along positions): one channel, a kernel with
        // fewer columns than a block (2×2: 4 of 6), 13 output channels (a last block of one), wrapped border.
        "2:1×7×6→6:2×2/s1/p1",
        "3:1×6×5→13:3×3/s1/p1c",
        // Native stride-2 channels-last path (≥ 8 channels, one input channel or < 4 output channels): channel counts off
        // whole vectors both ways (13 and 20 output channels: a 16-wide block and an 8-wide tail; 17, 10 and 9 input
        // channels), one input channel, 1×1 images, a 1×1 kernel, odd sizes, padding 0/1/2 zero and circular.
        "3:17×5×7→13:3×3/s2/p1",
        "2:1×9×7→5:3×3/s2/p1c",
        "3:1×7×9→8:5×5/s2/p2",
        "3:8×1×1→20:3×3/s2/p1",
        "1:9×7×9→3:3×3/s2/p2c",
        "2:9×1×1→5:1×1/s2/p0",
        "3:10×7×9→13:2×3/s2/p1c",
        "2:12×5×6→9:5×5/s2/p2c",
        // Channels-last blocks of 6 and 5 pixels covering a grid exactly (from 20 pixels on): a 7 × 7 output (4 blocks of
        // 6, 5 of 5), 20 output channels (a 16-wide block and an 8-wide tail); the input gradient's phases 7 × 7 and
        // 7 × 8 (circular: the whole padded image).
        "2:9×13×13→20:3×3/s2/p1",
        "1:8×11×13→16:3×3/s2/p1c",
        // Channels-last staging by rows: an input 18 wide (two tiles a row, the second overlapping the first) and an
        // output gradient 9 × 9 (rows of at least 8) with 9 channels (one group of 8 and one channel on its own).
        "1:8×17×18→9:3×3/s2/p1",
        // Native one-input-channel forward at stride ≥ 2 with at most 9 taps (tap planes, written into NCHW): output
        // channel counts off whole blocks of 4 (1, 5, 13, 17), output planes of 1, 6, 16, 24, 30, 49 and 64 pixels (a
        // masked vector alone, exactly 2 and 3 vectors, a last block of 6, of one pixel or of 2 whole vectors), 1×1, 2×3
        // and 3×3 kernels, padding 0/1/2 zero and circular, strides 2 and 3 (5×5 above stays channels-last).
        "3:1×1×1→13:3×3/s2/p1",
        "2:1×5×7→17:2×3/s2/p0",
        "3:1×13×13→5:3×3/s2/p2c",
        "2:1×13×13→1:1×1/s2/p0",
        "2:1×7×7→5:3×3/s2/p1c",
        "1:1×7×11→17:3×3/s2/p1",
        "2:1×5×7→5:3×3/s3/p1c",
        "3:1×13×13→13:2×3/s3/p2",
    ];

    public static (Conv2dGeometry G, int Batch) Parse(string text)
    {
        var parts = text.Split(':', '→', '/');
        int batch = int.Parse(parts[0]);
        var input = parts[1].Split('×').Select(int.Parse).ToArray();
        int cout = int.Parse(parts[2]);
        var kernel = parts[3].Split('×').Select(int.Parse).ToArray();
        int stride = int.Parse(parts[4][1..]);
        bool circular = parts[5].EndsWith('c');
        int padding = int.Parse(parts[5][1..].TrimEnd('c'));
        return (new Conv2dGeometry(input[0], input[1], input[2], cout, kernel[0], kernel[1], stride, padding,
            circular ? ConvPadding.Circular : ConvPadding.Zero), batch);
    }
}
