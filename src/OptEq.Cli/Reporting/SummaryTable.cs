using System.Globalization;
using System.Text;
using Spectre.Console;

namespace OptEq.Cli.Reporting;

/// <summary>
/// A small results table (per-epoch summary, benchmark results): a rounded Spectre.Console table at a terminal,
/// plain aligned text in logs and files. Columns whose cells are all numbers (optionally with a trailing '%'
/// or unit, e.g. "96.1%", "4,520", "12.3 s") are right-aligned so the digits line up.
/// </summary>
public static class SummaryTable
{
    private const string ColumnGap = "  ";

    /// <summary>Writes the table to standard output: Spectre.Console table when <see cref="Terminal.IsInteractive"/>, plain text otherwise.</summary>
    public static void Print(string title, IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        Validate(columns, rows);
        if (Terminal.IsInteractive)
            AnsiConsole.Write(ToSpectreTable(title, columns, rows));
        else
            Console.Out.Write(ToPlainText(title, columns, rows));
    }

    /// <summary>
    /// The table as plain text: the title (if any), the header, a dashed rule and one line per row, columns
    /// separated by two spaces, no trailing spaces, every line ending in '\n'.
    /// </summary>
    public static string ToPlainText(string title, IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        Validate(columns, rows);
        int[] widths = new int[columns.Count];
        bool[] right = new bool[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            widths[c] = columns[c].Length;
            foreach (var row in rows)
                widths[c] = Math.Max(widths[c], row[c].Length);
            right[c] = IsNumericColumn(rows, c);
        }

        var text = new StringBuilder();
        if (!string.IsNullOrEmpty(title))
            text.Append(title).Append('\n');
        AppendLine(text, columns, widths, right);
        AppendLine(text, widths.Select(w => new string('-', w)).ToArray(), widths, right);
        foreach (var row in rows)
            AppendLine(text, row, widths, right);
        return text.ToString();
    }

    private static Table ToSpectreTable(string title, IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var table = new Table().RoundedBorder();
        if (!string.IsNullOrEmpty(title))
            table.Title = new TableTitle(Markup.Escape(title));
        for (int c = 0; c < columns.Count; c++)
        {
            // Text, not markup: cell contents such as "[1, 784]" must not be read as style tags.
            var column = new TableColumn(new Text(columns[c]));
            table.AddColumn(IsNumericColumn(rows, c) ? column.RightAligned() : column);
        }
        foreach (var row in rows)
            table.AddRow(row.Select(cell => new Text(cell)).ToArray());
        return table;
    }

    private static void AppendLine(StringBuilder text, IReadOnlyList<string> cells, int[] widths, bool[] right)
    {
        var line = new StringBuilder();
        for (int c = 0; c < cells.Count; c++)
        {
            if (c > 0)
                line.Append(ColumnGap);
            line.Append(right[c] ? cells[c].PadLeft(widths[c]) : cells[c].PadRight(widths[c]));
        }
        text.Append(line.ToString().TrimEnd()).Append('\n');
    }

    /// <summary>A column is numeric when it has a value and every non-empty cell starts with a number ("12.3 s", "96.1%", "-").</summary>
    private static bool IsNumericColumn(IReadOnlyList<IReadOnlyList<string>> rows, int column)
    {
        bool any = false;
        foreach (var row in rows)
        {
            string cell = row[column].Trim();
            if (cell.Length == 0 || cell == "-")
                continue;
            if (!StartsWithNumber(cell))
                return false;
            any = true;
        }
        return any;
    }

    private static bool StartsWithNumber(string cell)
    {
        // The number is everything up to the first space or '%'; the rest is a unit.
        int end = cell.IndexOfAny([' ', '%']);
        string number = end < 0 ? cell : cell[..end];
        return double.TryParse(number, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out _);
    }

    private static void Validate(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        if (columns.Count == 0)
            throw new ArgumentException("A table needs at least one column.", nameof(columns));
        if (columns.Any(c => c is null))
            throw new ArgumentException("Column names must not be null.", nameof(columns));
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r] is null || rows[r].Count != columns.Count)
                throw new ArgumentException(
                    $"Row {r} has {rows[r]?.Count ?? 0} cells but the table has {columns.Count} columns.", nameof(rows));
            if (rows[r].Any(cell => cell is null))
                throw new ArgumentException($"Row {r} has a null cell; use \"\" for an empty one.", nameof(rows));
        }
    }
}
