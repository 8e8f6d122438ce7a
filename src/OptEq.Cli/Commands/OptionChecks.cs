using System.Globalization;
using OptEq.Autodiff.Validation;

namespace OptEq.Cli.Commands;

/// <summary>
/// Range checks of option values, each naming the option and the value it got (an <see cref="InputException"/> of kind
/// <see cref="InputProblem.Option"/>: exit code 2). Run before any data is loaded, so a typo fails at once.
/// </summary>
public static class OptionChecks
{
    public static int Range(int value, string option, int min, int max, string? why = null) =>
        value >= min && value <= max ? value : throw InputException.Option(option, $"must lie in [{min}, {max}], got {value}{Why(why)}");

    public static double Positive(double value, string option) =>
        double.IsFinite(value) && value > 0 ? value : throw InputException.Option(option, $"must be a finite number > 0, got {Text(value)}");

    public static double NonNegative(double value, string option, string? why = null) =>
        double.IsFinite(value) && value >= 0 ? value : throw InputException.Option(option, $"must be a finite number ≥ 0, got {Text(value)}{Why(why)}");

    public static double OpenUnit(double value, string option) =>
        value > 0 && value < 1 ? value : throw InputException.Option(option, $"must lie strictly between 0 and 1, got {Text(value)}");

    public static void Each(int[] values, string option, int min, int max)
    {
        if (values.Length == 0) throw InputException.Option(option, "needs at least one value");
        foreach (int v in values) Range(v, option, min, max);
    }

    private static string Text(double value) => value.ToString("G", CultureInfo.InvariantCulture);
    private static string Why(string? why) => why is null ? "" : $" ({why})";
}
