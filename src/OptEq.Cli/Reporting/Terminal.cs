namespace OptEq.Cli.Reporting;

/// <summary>Whether output goes to a person at a terminal or to a log.</summary>
public static class Terminal
{
    /// <summary>
    /// True when standard output is a terminal that can redraw a line: not redirected to a file or pipe,
    /// not under CI (which sets CI=true and keeps every byte in its log), and not TERM=dumb.
    /// </summary>
    public static bool IsInteractive =>
        !Console.IsOutputRedirected
        && Environment.GetEnvironmentVariable("CI") is null
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Width of the terminal in columns, or <paramref name="fallback"/> when there is no terminal to ask.</summary>
    public static int Width(int fallback = 120)
    {
        if (Console.IsOutputRedirected)
            return fallback;
        try
        {
            int width = Console.WindowWidth;
            return width > 0 ? width : fallback;
        }
        catch (IOException)
        {
            return fallback;
        }
        catch (PlatformNotSupportedException)
        {
            return fallback;
        }
    }
}
