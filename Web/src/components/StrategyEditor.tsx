// A simple editor for custom strategies: paste or edit C# source, upload it (the cluster compiles it in its
// sandbox), and see compile errors at their lines. Replacing a strategy is uploading its new source: the server
// stores it as the next version. A loaded strategy can also be deleted (after a confirmation).
import { useRef, useState } from 'react';
import { Alert, Button, Card, Input, Popconfirm, Select, Space, Typography } from 'antd';
import { ApiError } from '../api/client';
import type { CompileDiagnostic, StrategyDeleted, StrategyVersion } from '../api/types';

export interface StrategyEditorProps {
  /** Names of the user's own custom strategies, to load one for replacing. */
  customNames: string[];
  upload: (source: string) => Promise<StrategyVersion>;
  loadSource: (name: string) => Promise<string>;
  onUploaded?: (version: StrategyVersion) => void;
  /** Deletes one of the user's strategies; without it the editor offers no delete. */
  remove?: (name: string) => Promise<StrategyDeleted>;
  onDeleted?: (deleted: StrategyDeleted) => void;
}

type Outcome =
  | { kind: 'stored'; version: StrategyVersion }
  | { kind: 'rejected'; title: string; detail?: string; diagnostics: CompileDiagnostic[] }
  | { kind: 'deleted'; deleted: StrategyDeleted }
  | { kind: 'failed'; message: string };

/** The diagnostics in source order, each with the text of its line. */
export function annotate(source: string, diagnostics: CompileDiagnostic[]) {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  return [...diagnostics]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map((d) => ({ ...d, text: lines[d.line - 1] ?? '' }));
}

/** Where a 1-based line and column start in the text (for selecting it in the textarea). */
export function offsetOf(source: string, line: number, column: number) {
  const lines = source.split('\n');
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
  return offset + Math.max(0, column - 1);
}

export function StrategyEditor({ customNames, upload, loadSource, onUploaded, remove, onDeleted }: StrategyEditorProps) {
  const [source, setSource] = useState('');
  const [loaded, setLoaded] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [compiledSource, setCompiledSource] = useState('');
  const textArea = useRef<HTMLTextAreaElement | null>(null);

  const submit = async () => {
    setBusy(true);
    setOutcome(null);
    setCompiledSource(source);
    try {
      const version = await upload(source);
      setOutcome({ kind: 'stored', version });
      onUploaded?.(version);
    } catch (e) {
      if (e instanceof ApiError && e.diagnostics.length > 0) {
        setOutcome({ kind: 'rejected', title: e.title, detail: e.detail, diagnostics: e.diagnostics });
      } else {
        setOutcome({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
      }
    } finally {
      setBusy(false);
    }
  };

  const load = async (name: string) => {
    try {
      setSource(await loadSource(name));
      setLoaded(name);
      setOutcome(null);
    } catch (e) {
      setOutcome({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    }
  };

  const deleteLoaded = async () => {
    if (!remove || !loaded) return;
    setBusy(true);
    try {
      const deleted = await remove(loaded);
      setOutcome({ kind: 'deleted', deleted });
      setLoaded(null);
      setSource('');
      onDeleted?.(deleted);
    } catch (e) {
      setOutcome({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  const jumpTo = (d: CompileDiagnostic) => {
    const area = textArea.current;
    if (!area) return;
    const start = offsetOf(source, d.line, d.column);
    const end = d.endLine && d.endColumn ? offsetOf(source, d.endLine, d.endColumn) : start + 1;
    area.focus();
    area.setSelectionRange(start, Math.max(end, start + 1));
  };

  return (
    <Card title="Custom strategy" size="small" style={{ marginTop: 16 }} data-testid="strategy-editor">
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        One C# class deriving from <code>Strategy</code>, with <code>[Parameter]</code> properties
        (docs/custom-strategies.md). It is compiled in the cluster&apos;s sandbox and stored as your next version; it then
        appears in the strategy list.
      </Typography.Paragraph>
      <Space style={{ marginBottom: 8 }} wrap>
        <Select
          aria-label="Load one of your strategies"
          placeholder="Load one of your strategies to replace it"
          style={{ minWidth: 280 }}
          value={null}
          onChange={(name: string) => void load(name)}
          options={customNames.map((name) => ({ value: name, label: name }))}
          disabled={customNames.length === 0}
        />
        {remove && loaded && (
          <Popconfirm
            title={`Delete ${loaded}?`}
            description="Backtests that ran it keep their version; it leaves the strategy list."
            okText="Delete"
            okButtonProps={{ danger: true }}
            onConfirm={() => deleteLoaded()}
          >
            <Button danger disabled={busy}>Delete {loaded}</Button>
          </Popconfirm>
        )}
      </Space>
      <Input.TextArea
        ref={(r) => { textArea.current = r?.resizableTextArea?.textArea ?? null; }}
        aria-label="Strategy source"
        value={source}
        onChange={(e) => setSource(e.target.value)}
        rows={16}
        spellCheck={false}
        style={{ fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 13 }}
        placeholder="using Backtesting.Engine.Strategies; public sealed class MyStrategy : Strategy { ... }"
      />
      <Space style={{ marginTop: 8 }}>
        <Button type="primary" onClick={() => void submit()} loading={busy} disabled={!source.trim()}>
          Compile and save
        </Button>
      </Space>
      {outcome?.kind === 'stored' && (
        <Alert style={{ marginTop: 8 }} type="success" showIcon data-testid="upload-stored"
          message={outcome.version.created
            ? `${outcome.version.name} version ${outcome.version.version} stored`
            : `${outcome.version.name} version ${outcome.version.version} is already this source`} />
      )}
      {outcome?.kind === 'deleted' && (
        <Alert style={{ marginTop: 8 }} type="success" showIcon data-testid="strategy-deleted"
          message={outcome.deleted.outcome === 'removed'
            ? `${outcome.deleted.name} deleted`
            : `${outcome.deleted.name} deleted; the backtests that ran it keep their version`} />
      )}
      {outcome?.kind === 'failed' && (
        <Alert style={{ marginTop: 8 }} type="error" showIcon data-testid="upload-failed" message={outcome.message} />
      )}
      {outcome?.kind === 'rejected' && (
        <Alert style={{ marginTop: 8 }} type="error" showIcon message={outcome.title}
          description={
            <ul data-testid="compile-errors" style={{ margin: 0, paddingLeft: 16 }}>
              {annotate(compiledSource, outcome.diagnostics).map((d, i) => (
                <li key={i} data-testid="compile-error" data-line={d.line} data-column={d.column}>
                  <Typography.Link onClick={() => jumpTo(d)}>Line {d.line}, column {d.column}</Typography.Link>
                  {' '}<Typography.Text code>{d.id}</Typography.Text> {d.message}
                  <pre style={{ margin: '2px 0 6px', fontSize: 12, whiteSpace: 'pre' }}>
                    {`${String(d.line).padStart(4)} | ${d.text}\n     | ${' '.repeat(Math.max(0, d.column - 1))}^`}
                  </pre>
                </li>
              ))}
            </ul>
          } />
      )}
    </Card>
  );
}
