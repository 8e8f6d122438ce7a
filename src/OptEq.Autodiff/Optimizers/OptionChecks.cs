namespace OptEq.Autodiff.Optimizers;

/// <summary>Shared checks of optimizer options; the exception's parameter name and message name the option.</summary>
internal static class OptionChecks
{
    public static double NonNegative(double value, string option)
        => value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} must be finite and ≥ 0");

    public static double Positive(double value, string option)
        => value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} must be finite and > 0");

    /// <summary>An exponential-average coefficient β in [0, 1) (β = 1 would never forget the initial zero state).</summary>
    public static double Beta(double value, string option)
        => value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} must lie in [0, 1)");

    public static double UnitInterval(double value, string option)
        => value >= 0 && value <= 1 ? value : throw new ArgumentOutOfRangeException(option, value, $"{option} must lie in [0, 1]");
}
