using NUnit.Framework;
using OptEq.Cli.Reporting;

namespace OptEq.Tests.Reporting;

public class EpochProgressTests
{
    /// <summary>A clock the test moves by hand, so redraw throttling is deterministic.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private static void Batch(EpochProgress progress, int done) =>
        progress.Update(done, loss: 0.5, accuracy: 0.9, forwardIterations: 12.3, backwardIterations: 8.1, samplesPerSecond: 4520);

    [Test, NonParallelizable] // swaps the process-wide Console.Out
    public void NonInteractivePrintsTheSummaryLineToConsoleOut()
    {
        TextWriter original = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            using (var progress = new EpochProgress(epoch: 1, epochs: 3, totalBatches: 2, interactive: false))
            {
                Batch(progress, 1);
                Batch(progress, 2);
                progress.Complete("epoch 1/3 loss 0.5000 test acc 91.20%");
            }
        }
        finally
        {
            Console.SetOut(original);
        }

        // Two batches are too few for quarter lines: the summary is all a log gets.
        Assert.That(captured.ToString(), Is.EqualTo("epoch 1/3 loss 0.5000 test acc 91.20%" + Environment.NewLine));
    }

    [Test]
    public void NonInteractivePrintsAQuarterLineAt25And50And75Percent()
    {
        var output = new StringWriter();
        using (var progress = new EpochProgress(2, 3, totalBatches: 8, interactive: false, output))
        {
            for (int b = 1; b <= 8; b++)
                Batch(progress, b);
            progress.Complete("summary");
        }

        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "epoch 2/3  25% 2/8 loss 0.5000 acc 90.0% fwd 12.3 bwd 8.1 4,520 samples/s",
            "epoch 2/3  50% 4/8 loss 0.5000 acc 90.0% fwd 12.3 bwd 8.1 4,520 samples/s",
            "epoch 2/3  75% 6/8 loss 0.5000 acc 90.0% fwd 12.3 bwd 8.1 4,520 samples/s",
            "summary",
        }));
    }

    [Test]
    public void InteractiveRedrawsOneLineAtMostTenTimesASecond()
    {
        var output = new StringWriter();
        var time = new ManualTime();
        using var progress = new EpochProgress(3, 20, totalBatches: 20, interactive: true, output, time);

        Batch(progress, 1);                       // first update draws at once
        time.Advance(TimeSpan.FromMilliseconds(50));
        Batch(progress, 2);                       // too soon: skipped
        time.Advance(TimeSpan.FromMilliseconds(60));
        Batch(progress, 10);                      // 110 ms after the first draw

        string text = output.ToString();
        Assert.That(text.Count(c => c == '\r'), Is.EqualTo(2), "two redraws");
        Assert.That(text, Does.Not.Contain("\n"), "a progress line never scrolls");
        string last = text[(text.LastIndexOf('\r') + 1)..];
        Assert.That(last, Does.StartWith("epoch  3/20 "));
        Assert.That(last, Does.Contain(" 10/20 loss 0.5000 acc 90.0% fwd 12.3 bwd 8.1 4,520 samples/s"));
        // Half done: the bar is half filled.
        string bar = last.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.That(bar.Count(c => c == '━'), Is.EqualTo(bar.Length / 2));
        Assert.That(bar.Count(c => c == '─'), Is.EqualTo(bar.Length - bar.Length / 2));
    }

    [Test]
    public void InteractiveCompleteOverwritesTheBarWithTheSummary()
    {
        var output = new StringWriter();
        var progress = new EpochProgress(1, 1, totalBatches: 5, interactive: true, output, new ManualTime());
        Batch(progress, 3);
        int barLength = output.ToString().Length - 1;

        progress.Complete("epoch 1/1 done");
        progress.Dispose();

        string text = output.ToString();
        string summary = text[(text.LastIndexOf('\r') + 1)..];
        // Spaces blank out the rest of the longer bar line, then the cursor moves to a new line.
        Assert.That(summary, Is.EqualTo("epoch 1/1 done" + new string(' ', barLength - 14) + Environment.NewLine));
    }

    [Test]
    public void DisposeWithoutCompleteEndsTheProgressLine()
    {
        var output = new StringWriter();
        using (var progress = new EpochProgress(1, 2, totalBatches: 5, interactive: true, output, new ManualTime()))
            Batch(progress, 2);

        Assert.That(output.ToString(), Does.StartWith("\repoch 1/2 "));
        Assert.That(output.ToString(), Does.EndWith(Environment.NewLine), "an error message after it starts on its own line");
    }

    [Test]
    public void UpdateAfterCompleteAndInvalidArgumentsAreRejected()
    {
        var progress = new EpochProgress(1, 2, totalBatches: 5, interactive: false, new StringWriter());
        Assert.Throws<ArgumentOutOfRangeException>(() => Batch(progress, 6));
        progress.Complete("done");
        Assert.Throws<ObjectDisposedException>(() => Batch(progress, 5));

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new EpochProgress(0, 2, 5, false, new StringWriter()));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new EpochProgress(3, 2, 5, false, new StringWriter()));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new EpochProgress(1, 2, 0, false, new StringWriter()));
    }
}
