using NUnit.Framework;
using OptEq.Cli.Reporting;

namespace OptEq.Tests.Reporting;

public class SummaryTableTests
{
    private static readonly string[] Columns = ["epoch", "loss", "test acc", "solver"];

    private static readonly IReadOnlyList<string>[] Rows =
    [
        ["1", "0.4123", "88.2%", "anderson"],
        ["10", "0.0523", "98.4%", "fixed-point"],
    ];

    [Test]
    public void PlainTextAlignsColumnsNumbersToTheRight()
    {
        string text = SummaryTable.ToPlainText("Training", Columns, Rows);

        Assert.That(text, Is.EqualTo(
            "Training\n" +
            "epoch    loss  test acc  solver\n" +
            "-----  ------  --------  -----------\n" +
            "    1  0.4123     88.2%  anderson\n" +
            "   10  0.0523     98.4%  fixed-point\n"));
    }

    [Test]
    public void PlainTextWithoutTitleOrRowsIsHeaderAndRule()
    {
        Assert.That(SummaryTable.ToPlainText("", ["name", "value"], []), Is.EqualTo("name  value\n----  -----\n"));
    }

    [Test]
    public void NumbersWithUnitsAndDashesCountAsNumericColumns()
    {
        string text = SummaryTable.ToPlainText("", ["time", "speed"],
        [
            ["12.3 s", "4,520"],
            ["1.5 s", "-"],
        ]);

        Assert.That(text, Is.EqualTo(
            "  time  speed\n" +
            "------  -----\n" +
            "12.3 s  4,520\n" +
            " 1.5 s      -\n"));
    }

    [Test]
    public void RowWithWrongCellCountIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            SummaryTable.ToPlainText("t", Columns, [Rows[0], ["2", "0.3"]]));
        Assert.That(error!.Message, Does.Contain("Row 1 has 2 cells"));
    }

    [Test, NonParallelizable] // swaps the process-wide Console.Out
    public void PrintWritesThePlainTableWhenOutputIsNotATerminal()
    {
        Assume.That(Terminal.IsInteractive, Is.False, "the test runner's output is a terminal");
        TextWriter original = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            SummaryTable.Print("Training", Columns, Rows);
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.That(captured.ToString(), Is.EqualTo(SummaryTable.ToPlainText("Training", Columns, Rows)));
    }
}
