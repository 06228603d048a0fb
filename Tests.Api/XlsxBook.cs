using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Backtesting.Tests.Api;

/// <summary>
/// Reads an xlsx workbook back with the Open XML SDK, independently of the library that wrote it: each sheet's
/// cells by row (1-based) and column letter, as the text the cell holds (shared, inline or a number's digits).
/// </summary>
internal sealed class XlsxBook
{
    private readonly Dictionary<string, Dictionary<(int Row, string Column), XlsxCell>> _sheets;

    private XlsxBook(List<string> names, Dictionary<string, Dictionary<(int Row, string Column), XlsxCell>> sheets)
    {
        SheetNames = names;
        _sheets = sheets;
    }

    public IReadOnlyList<string> SheetNames { get; }

    public static XlsxBook Open(byte[] bytes)
    {
        using var document = SpreadsheetDocument.Open(new MemoryStream(bytes), isEditable: false);
        var workbook = document.WorkbookPart ?? throw new InvalidDataException("no workbook part");
        var shared = workbook.SharedStringTablePart?.SharedStringTable.Elements<SharedStringItem>().Select(i => i.InnerText).ToList() ?? [];
        var names = new List<string>();
        var sheets = new Dictionary<string, Dictionary<(int, string), XlsxCell>>();
        foreach (var sheet in workbook.Workbook.Sheets!.Elements<Sheet>())
        {
            var name = sheet.Name!.Value!;
            names.Add(name);
            var cells = new Dictionary<(int, string), XlsxCell>();
            var part = (WorksheetPart)workbook.GetPartById(sheet.Id!.Value!);
            foreach (var cell in part.Worksheet.Descendants<Cell>())
            {
                var reference = cell.CellReference!.Value!;
                var column = new string(reference.TakeWhile(char.IsLetter).ToArray());
                var row = int.Parse(reference[column.Length..], System.Globalization.CultureInfo.InvariantCulture);
                var type = cell.DataType?.Value;
                string? text = type == CellValues.SharedString ? shared[int.Parse(cell.CellValue!.Text, System.Globalization.CultureInfo.InvariantCulture)]
                    : type == CellValues.InlineString ? cell.InlineString?.InnerText
                    : cell.CellValue?.Text;
                if (!string.IsNullOrEmpty(text))
                {
                    var numeric = type is null || type == CellValues.Number;
                    cells[(row, column)] = new XlsxCell(text, numeric);
                }
            }

            sheets[name] = cells;
        }

        return new XlsxBook(names, sheets);
    }

    /// <summary>The cell's text, or null when it is empty.</summary>
    public XlsxCell? Cell(string sheet, int row, string column) => _sheets[sheet].GetValueOrDefault((row, column));

    /// <summary>How many rows hold at least one non-empty cell.</summary>
    public int RowsUsed(string sheet) => _sheets[sheet].Keys.Select(k => k.Row).Distinct().Count();

    /// <summary>The non-empty cells of one column, top to bottom.</summary>
    public IEnumerable<XlsxCell> Column(string sheet, string column) =>
        _sheets[sheet].Where(c => c.Key.Column == column).OrderBy(c => c.Key.Row).Select(c => c.Value);
}

internal sealed record XlsxCell(string Text, bool Numeric)
{
    public double Number => Numeric ? double.Parse(Text, System.Globalization.CultureInfo.InvariantCulture)
        : throw new InvalidOperationException($"'{Text}' is text, not a number");
}
