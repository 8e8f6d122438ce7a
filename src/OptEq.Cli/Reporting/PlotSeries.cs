namespace OptEq.Cli.Reporting;

/// <summary>One line of a plot: points (X[i], Y[i]) drawn in order, named <paramref name="Label"/> in the legend.</summary>
public sealed record PlotSeries(string Label, double[] X, double[] Y);
