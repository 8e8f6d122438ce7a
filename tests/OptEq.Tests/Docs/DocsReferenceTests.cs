using System.Text.RegularExpressions;
using NUnit.Framework;

namespace OptEq.Tests.Docs;

/// <summary>
/// The repository documents its own mathematics in docs/, and its text may point only there: no reference to a file
/// outside the repository, and every "docs/&lt;file&gt;.md §N.M" names a file under docs/ with a heading numbered N.M.
/// </summary>
public class DocsReferenceTests
{
    // Built from pieces so that this file does not match its own checks.
    private static readonly string[] Forbidden = ["MATH" + ".md", ".." + "/shared", "shared" + "/brief"];
    private static readonly string[] ScannedExtensions = [".cs", ".md", ".py", ".sh"];
    private static readonly HashSet<string> SkippedDirectories = ["bin", "obj", ".git", ".vs", "TestResults"];

    // "docs/math.md §1.6", "docs/math.md §1.2, §1.4 and §4": the file, then one or more section numbers.
    private static readonly Regex Reference = new(
        @"(?<![\w./-])docs/(?<file>[A-Za-z0-9_\-/]+\.md)(?<sections>(?:\s*(?:,|and|or)?\s*§\s*\d+(?:\.\d+)*)*)", RegexOptions.Compiled);
    private static readonly Regex SectionNumber = new(@"§\s*(?<n>\d+(?:\.\d+)*)", RegexOptions.Compiled);
    // "## 4. Solvers …", "### 1.6 Backward pass": the number a heading starts with.
    private static readonly Regex Heading = new(@"^ {0,3}#{1,6}[ \t]+(?<n>\d+(?:\.\d+)*)\.?(?=[ \t]|$)", RegexOptions.Compiled);

    [Test]
    public void NoTextRefersToAFileOutsideTheRepository()
    {
        var root = RepositoryRoot();
        var offenders = new List<string>();
        foreach (var path in ScannedFiles(root))
        {
            var text = File.ReadAllText(path);
            foreach (var (line, what) in FindForbidden(text))
                offenders.Add($"{Path.GetRelativePath(root, path)}:{line}: refers to '{what}'");
        }
        Assert.That(offenders, Is.Empty, "text must cite docs/ (e.g. docs/math.md with a section), never a file outside the repository:\n" + string.Join("\n", offenders));
    }

    [Test]
    public void EveryDocsReferenceNamesAnExistingSection()
    {
        var root = RepositoryRoot();
        var docs = Path.Combine(root, "docs");
        var headings = new Dictionary<string, HashSet<string>?>();
        HashSet<string>? HeadingsOf(string file)
        {
            if (!headings.TryGetValue(file, out var set))
            {
                var path = Path.Combine(docs, file);
                headings[file] = set = File.Exists(path) ? HeadingNumbers(File.ReadAllText(path)) : null;
            }
            return set;
        }

        var broken = new List<string>();
        int checkedSections = 0;
        foreach (var path in ScannedFiles(root))
        {
            foreach (var reference in ParseReferences(File.ReadAllText(path)))
            {
                var problem = Check(reference, HeadingsOf);
                if (problem is not null) broken.Add($"{Path.GetRelativePath(root, path)}:{reference.Line}: {problem}");
                checkedSections += reference.Sections.Count;
            }
        }
        Assert.That(broken, Is.Empty, string.Join("\n", broken));
        TestContext.Out.WriteLine($"{checkedSections} section references checked");
    }

    [Test]
    public void MathNotesKeepTheirSectionNumbers()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "math.md");
        Assert.That(File.Exists(path), Is.True, "docs/math.md is missing");
        var numbers = HeadingNumbers(File.ReadAllText(path));
        string[] required = ["1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2", "3", "4", "5", "6"];
        Assert.That(required.Where(n => !numbers.Contains(n)), Is.Empty, "docs/math.md lost numbered sections that code comments cite");
    }

    // The parser and the checker on known cases, so that an empty list of problems above means something.
    [Test]
    public void ParserFindsReferencesAndHeadings()
    {
        var text = "line one\n// see " + "docs/" + "math.md §1.6 and §4.\n/// (" + "docs/" + "math.md §1.2, §1.10) and " + "docs/" + "other.md\n";
        var refs = ParseReferences(text);
        Assert.That(refs.Select(r => (r.File, r.Line, string.Join(" ", r.Sections))),
            Is.EqualTo(new[] { ("math.md", 2, "1.6 4"), ("math.md", 3, "1.2 1.10"), ("other.md", 3, "") }));
        Assert.That(ParseReferences("src/" + "docs/" + "math.md §1"), Is.Empty, "a docs folder inside another path is not the repository's");

        var markdown = "# Title\n## 4. Solvers shared\n### 1.6 Backward pass\n```\n## 9.9 inside a code block\n```\n#### 1.10 x\n## Notation\n##7 no space\n";
        Assert.That(HeadingNumbers(markdown), Is.EquivalentTo(new[] { "4", "1.6", "1.10" }));
    }

    [Test]
    public void CheckerAcceptsExistingSectionsAndRejectsOthers()
    {
        var files = new Dictionary<string, HashSet<string>> { ["math.md"] = ["1", "1.6", "1.10", "4"] };
        HashSet<string>? Lookup(string f) => files.TryGetValue(f, out var s) ? s : null;
        DocsReference Ref(string file, params string[] sections) => new(file, 1, sections);

        Assert.That(Check(Ref("math.md", "1.6", "4"), Lookup), Is.Null);
        Assert.That(Check(Ref("math.md"), Lookup), Is.Null, "a file named without a section only has to exist");
        Assert.That(Check(Ref("math.md", "1.1"), Lookup), Does.Contain("§1.1"), "1.10 must not satisfy 1.1");
        Assert.That(Check(Ref("math.md", "9"), Lookup), Does.Contain("§9"));
        Assert.That(Check(Ref("missing.md", "1"), Lookup), Does.Contain("missing.md"));

        Assert.That(FindForbidden("see " + "MATH" + ".md §1"), Has.Count.EqualTo(1));
        Assert.That(FindForbidden("see .." + "/shared" + "/brief/x"), Has.Count.EqualTo(2));
        Assert.That(FindForbidden("see docs/math.md §1 (lower case is ours)"), Is.Empty);
    }

    private sealed record DocsReference(string File, int Line, IReadOnlyList<string> Sections);

    private static List<DocsReference> ParseReferences(string text)
    {
        var result = new List<DocsReference>();
        foreach (Match m in Reference.Matches(text))
        {
            var sections = SectionNumber.Matches(m.Groups["sections"].Value).Select(s => s.Groups["n"].Value).ToArray();
            result.Add(new DocsReference(m.Groups["file"].Value, LineOf(text, m.Index), sections));
        }
        return result;
    }

    /// <summary>Numbers that headings start with, outside fenced code blocks.</summary>
    private static HashSet<string> HeadingNumbers(string markdown)
    {
        var numbers = new HashSet<string>();
        bool fenced = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            if (fenced) continue;
            var m = Heading.Match(line.TrimEnd('\r'));
            if (m.Success) numbers.Add(m.Groups["n"].Value);
        }
        return numbers;
    }

    /// <summary>Null when the reference resolves; else what is wrong with it.</summary>
    private static string? Check(DocsReference reference, Func<string, HashSet<string>?> headingsOf)
    {
        var headings = headingsOf(reference.File);
        if (headings is null) return $"docs/{reference.File} does not exist";
        var missing = reference.Sections.Where(s => !headings.Contains(s)).ToArray();
        return missing.Length == 0 ? null : $"docs/{reference.File} has no heading numbered {string.Join(", ", missing.Select(s => "§" + s))}";
    }

    private static List<(int Line, string What)> FindForbidden(string text)
    {
        var hits = new List<(int, string)>();
        foreach (var what in Forbidden)
            for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
                hits.Add((LineOf(text, i), what));
        return hits;
    }

    private static int LineOf(string text, int index)
    {
        int line = 1;
        for (int i = 0; i < index; i++) if (text[i] == '\n') line++;
        return line;
    }

    private static IEnumerable<string> ScannedFiles(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory))
            if (ScannedExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase)) yield return file;
        foreach (var sub in Directory.EnumerateDirectories(directory))
            if (!SkippedDirectories.Contains(Path.GetFileName(sub)))
                foreach (var file in ScannedFiles(sub)) yield return file;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OptEq.Gpu.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no OptEq.Gpu.sln above {TestContext.CurrentContext.TestDirectory}");
    }
}
