using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff.Growth;
using OptEq.Kernels.Native;

namespace OptEq.Cli.Commands;

/// <summary>
/// <c>opteq check splitting</c>: per kind of split (dense, dense-signed, optEq-unit), the ε = 0 split leaves the outputs
/// unchanged and the measured loss change of an ε = 1e-3 split matches (ε²/2)·λ_min within 10 % (float64, native CPU;
/// docs/math.md §5.7). Convolution channels are not checked: there are no convolution layers yet.
/// </summary>
public static class CheckSplittingCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var splitting = new Command("splitting", $"Splits leave outputs unchanged (≤ {SplittingCheck.OutputTolerance:g1}) and change the loss by the predicted (ε²/2)·λ_min within {SplittingCheck.RelativeTolerance:P0} (ε = {SplittingCheck.Epsilon:g1}, float64).") { json };
        splitting.SetAction(parse =>
        {
            using var device = new NativeCpuDevice();
            bool asJson = parse.GetValue(json);
            if (!asJson) Console.WriteLine($"{"kind",-14}{"output change",15}{"λ",12}{"predicted ΔL",15}{"measured ΔL",15}  result");
            int failed = 0;
            foreach (var r in SplittingCheck.RunAll(device))
            {
                if (!r.Ok) failed++;
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["check"] = "splitting", ["kind"] = r.Kind, ["output_change"] = r.OutputChange,
                        ["predicted_dloss"] = r.PredictedDLoss, ["measured_dloss"] = r.MeasuredDLoss, ["ok"] = r.Ok,
                    }));
                else
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Kind,-14}{r.OutputChange,15:e2}{r.Lambda,12:e3}{r.PredictedDLoss,15:e4}{r.MeasuredDLoss,15:e4}  {(r.Ok ? "ok" : "FAIL")}"));
            }
            return failed == 0 ? 0 : 1;
        });
        return splitting;
    }
}
