using System.Globalization;
using System.Text;
using System.Text.Json;
using OptEq.Autodiff.Training;
using OptEq.Autodiff.Validation;

namespace OptEq.Cli.Training;

/// <summary>
/// The files of a training run: metrics.csv, metrics.json, checkpoint.safetensors and the plots. Every file is written to
/// a temporary name and renamed, so an interrupted run never leaves a half-written file over a good one.
/// </summary>
public sealed class RunFolder
{
    /// <summary>Creates the folder (or proves an existing one writable: a clear error naming --out otherwise) and removes
    /// temporary files an interrupted earlier run left behind.</summary>
    public RunFolder(string path)
    {
        Path = InputFiles.EnsureWritableFolder(path, "--out");
        RemoveStaleTemporaries();
    }

    /// <summary>Our temporary names: "name.tmp-&lt;hex&gt;" (metrics, checkpoints) and ".name.&lt;guid&gt;.tmp" (plots).</summary>
    private void RemoveStaleTemporaries()
    {
        foreach (var file in Directory.EnumerateFiles(Path).Where(f => System.IO.Path.GetFileName(f) is var n && (n.Contains(".tmp-", StringComparison.Ordinal) || (n.StartsWith('.') && n.EndsWith(".tmp", StringComparison.Ordinal)))))
        {
            try { System.IO.File.Delete(file); }
            catch (IOException) { } // another process may hold it; it is only a leftover
            catch (UnauthorizedAccessException) { }
        }
    }

    public string Path { get; }
    public string Checkpoint => File("checkpoint.safetensors");
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public static void WriteAtomically(string path, string contents)
    {
        string temporary = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            System.IO.File.WriteAllText(temporary, contents, new UTF8Encoding(false));
            System.IO.File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (System.IO.File.Exists(temporary)) System.IO.File.Delete(temporary);
        }
    }

    /// <param name="extra">More top-level fields (e.g. "ranks" of a data-parallel run), added after the standard ones.</param>
    public void WriteMetrics(string model, long parameters, string device, IReadOnlyList<EpochMetrics> history, object settings,
        IReadOnlyDictionary<string, object>? extra = null)
    {
        var csv = new StringBuilder("epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,samples_per_second,forward_iterations,backward_iterations,forward_converged,learning_rate\n");
        foreach (var m in history)
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Epoch},{m.TrainLoss:G6},{m.TrainAccuracy:G6},{m.TestLoss:G6},{m.TestAccuracy:G6},{m.Seconds:F2},{m.SamplesPerSecond:F1},{m.ForwardIterations:F2},{m.BackwardIterations:F2},{m.ForwardConverged:F4},{m.LearningRate:G4}"));
        WriteAtomically(File("metrics.csv"), csv.ToString());
        var json = new Dictionary<string, object>
        {
            ["model"] = model,
            ["parameters"] = parameters,
            ["device"] = device,
            ["epochs"] = history.Count == 0 ? 0 : history[^1].Epoch,
            ["seconds"] = Math.Round(history.Sum(m => m.Seconds), 2),
            ["final_test_accuracy"] = history.Count == 0 ? 0 : history[^1].TestAccuracy,
            ["test_accuracy"] = history.Select(m => m.TestAccuracy).ToArray(),
            ["train_loss"] = history.Select(m => m.TrainLoss).ToArray(),
            ["settings"] = settings,
            ["per_epoch"] = history,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, object>()) json[key] = value;
        WriteAtomically(File("metrics.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }
}
