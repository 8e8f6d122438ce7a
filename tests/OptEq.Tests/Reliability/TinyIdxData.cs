using OptEq.Autodiff.Data;
using OptEq.Tests.Data;

namespace OptEq.Tests.Reliability;

/// <summary>A tiny learnable IDX dataset on disk, as the command line reads it: 8×8 images, a bright 3×3 blob whose place gives the class.</summary>
internal static class TinyIdxData
{
    public const int Side = 8;

    /// <param name="noise">Background noise amplitude (0–255); more makes the task harder.</param>
    public static void Write(string dir, int classes = 10, int train = 300, int test = 100, int noise = 60, int seed = 1)
    {
        var rng = new Random(seed);
        foreach (var (prefix, count) in new[] { ("train", train), ("t10k", test) })
        {
            var labels = new byte[count];
            var pixels = new byte[count * Side * Side];
            for (int i = 0; i < count; i++)
            {
                int c = (i * 7 + rng.Next(classes)) % classes;
                labels[i] = (byte)c;
                for (int p = 0; p < Side * Side; p++) pixels[i * Side * Side + p] = (byte)rng.Next(noise + 1);
                int r0 = 2 * (c / 4) % (Side - 2), c0 = 2 * (c % 4) % (Side - 2);
                for (int r = r0; r < r0 + 3; r++)
                    for (int q = c0; q < c0 + 3; q++)
                        pixels[i * Side * Side + r * Side + q] = (byte)Math.Min(255, pixels[i * Side * Side + r * Side + q] + 120 + rng.Next(60));
            }
            IdxTestFiles.Write(dir, $"{prefix}-images-idx3-ubyte", IdxTestFiles.Encode([count, Side, Side], pixels), gzip: false);
            IdxTestFiles.Write(dir, $"{prefix}-labels-idx1-ubyte", IdxTestFiles.Encode([count], labels), gzip: false);
        }
        _ = DatasetLoader.Load(dir); // the set is valid
    }
}
