using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff.Checks;
using OptEq.Kernels.Native;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq check gradients</c>: every op and every layer × exact backward mode against finite differences in float64.</summary>
public static class CheckGradientsCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var gradients = new Command("gradients", $"Largest relative error of each op's and layer's gradients against finite differences (float64, native CPU); the bar is {GradientCheckResult.Bar:g1}.") { json };
        gradients.SetAction(parse =>
        {
            using var device = new NativeCpuDevice();
            bool asJson = parse.GetValue(json);
            int failed = 0, total = 0;
            if (!asJson) Console.WriteLine($"{"target",-34}{"mode",-24}{"max rel error",14}{"entries",9}  result");
            foreach (var r in GradientCheckSuite.RunAll(device))
            {
                total++;
                if (!r.Passes) failed++;
                if (asJson)
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["check"] = "gradient", ["target"] = r.Target, ["mode"] = r.Mode, ["max_rel_error"] = r.MaxRelativeError, ["entries"] = r.Checked, ["pass"] = r.Passes,
                    }));
                else
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Target,-34}{r.Mode,-24}{r.MaxRelativeError,14:e2}{r.Checked,9}  {(r.Passes ? "ok" : "FAIL: " + r.WorstEntry)}"));
            }
            if (!asJson) Console.WriteLine($"\n{total - failed} of {total} checks below {GradientCheckResult.Bar:g1}");
            return failed == 0 ? 0 : 1;
        });
        return new Command("check", "Correctness checks.") { gradients, CheckSplittingCommand.Create() };
    }
}
