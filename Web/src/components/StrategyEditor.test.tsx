import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { StrategyEditor, annotate, offsetOf } from './StrategyEditor';
import { ApiError } from '../api/client';
import type { StrategyVersion } from '../api/types';

const SOURCE = [
  'using Backtesting.Engine.Strategies;',
  '',
  'public sealed class Probe : Strategy',
  '{',
  '    public override void OnStart()',
  '    {',
  '        var secret = System.IO.File.ReadAllText("/etc/passwd");',
  '        int count = "text";',
  '    }',
  '}',
].join('\n');

// As the API answers a rejected upload (422 ProblemDetails with the compiler's diagnostics), out of order.
const rejected = new ApiError(422, 'The strategy was rejected', '2 error(s)', {}, undefined, [
  { id: 'CS0029', severity: 'error', line: 8, column: 21, endLine: 8, endColumn: 27, message: 'Cannot implicitly convert type \'string\' to \'int\'' },
  { id: 'BT0100', severity: 'error', line: 7, column: 22, endLine: 7, endColumn: 64, message: 'System.IO.File is not allowed in a strategy (file system access)' },
]);

async function typeAndUpload(source: string) {
  fireEvent.change(screen.getByLabelText('Strategy source'), { target: { value: source } });
  await act(async () => {
    fireEvent.click(screen.getByText('Compile and save').closest('button')!);
  });
}

describe('StrategyEditor', () => {
  it('shows each compile error at its line and column, in source order, with the line and a caret', async () => {
    const upload = vi.fn().mockRejectedValue(rejected);
    render(<StrategyEditor customNames={[]} upload={upload} loadSource={vi.fn()} />);

    await typeAndUpload(SOURCE);

    expect(upload).toHaveBeenCalledWith(SOURCE);
    const list = await screen.findByTestId('compile-errors');
    const items = within(list).getAllByTestId('compile-error');
    expect(items.map((i) => i.getAttribute('data-line'))).toEqual(['7', '8']);
    expect(items[0]).toHaveTextContent('Line 7, column 22');
    expect(items[0]).toHaveTextContent('BT0100');
    expect(items[0]).toHaveTextContent('System.IO.File is not allowed');
    expect(items[0]).toHaveTextContent('System.IO.File.ReadAllText("/etc/passwd")');
    expect(items[1]).toHaveTextContent('Line 8, column 21');
    expect(items[1]).toHaveTextContent('CS0029');
    // The caret sits under the column the compiler named.
    const caretLine = items[1].querySelector('pre')!.textContent!.split('\n')[1];
    expect(caretLine.indexOf('^') - '     | '.length).toBe(20);
  });

  it('selects the offending text when an error is clicked', async () => {
    render(<StrategyEditor customNames={[]} upload={vi.fn().mockRejectedValue(rejected)} loadSource={vi.fn()} />);
    await typeAndUpload(SOURCE);

    fireEvent.click(await screen.findByText('Line 8, column 21'));

    const area = screen.getByLabelText('Strategy source') as HTMLTextAreaElement;
    expect(SOURCE.slice(area.selectionStart, area.selectionEnd)).toBe('"text"');
  });

  it('reports a stored version, and loads one of the user\'s strategies to replace it', async () => {
    const stored: StrategyVersion = {
      name: 'Probe', version: 2, sourceHash: 'ab', created: true, warnings: [],
      schema: { name: 'Probe', description: 'Custom strategy', parameters: [], kind: 'custom', version: 2 },
    };
    const onUploaded = vi.fn();
    const loadSource = vi.fn().mockResolvedValue(SOURCE);
    render(<StrategyEditor customNames={['Probe']} upload={vi.fn().mockResolvedValue(stored)} loadSource={loadSource} onUploaded={onUploaded} />);

    fireEvent.mouseDown(screen.getAllByLabelText('Load one of your strategies')[0].closest('.ant-select')!.querySelector('.ant-select-selector')!);
    await act(async () => {
      fireEvent.click(await screen.findByText('Probe', { selector: '.ant-select-item-option-content' }));
    });
    expect(loadSource).toHaveBeenCalledWith('Probe');
    expect(screen.getByLabelText('Strategy source')).toHaveValue(SOURCE);

    await act(async () => {
      fireEvent.click(screen.getByText('Compile and save').closest('button')!);
    });
    expect(await screen.findByTestId('upload-stored')).toHaveTextContent('Probe version 2 stored');
    expect(onUploaded).toHaveBeenCalledWith(stored);
  });

  it('deletes a loaded strategy after a confirmation and says what happened to it', async () => {
    const remove = vi.fn().mockResolvedValue({ name: 'Probe', outcome: 'retired' });
    const onDeleted = vi.fn();
    render(<StrategyEditor customNames={['Probe']} upload={vi.fn()} loadSource={vi.fn().mockResolvedValue(SOURCE)}
      remove={remove} onDeleted={onDeleted} />);
    // Nothing to delete until a strategy is loaded.
    expect(screen.queryByText('Delete Probe')).toBeNull();

    fireEvent.mouseDown(screen.getAllByLabelText('Load one of your strategies')[0].closest('.ant-select')!.querySelector('.ant-select-selector')!);
    await act(async () => {
      fireEvent.click(await screen.findByText('Probe', { selector: '.ant-select-item-option-content' }));
    });
    fireEvent.click(screen.getByText('Delete Probe').closest('button')!);
    expect(remove).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.click((await screen.findByText('Delete', { selector: '.ant-popconfirm-buttons button span' })).closest('button')!);
    });

    expect(remove).toHaveBeenCalledWith('Probe');
    expect(onDeleted).toHaveBeenCalledWith({ name: 'Probe', outcome: 'retired' });
    expect(await screen.findByTestId('strategy-deleted')).toHaveTextContent('the backtests that ran it keep their version');
    expect(screen.getByLabelText('Strategy source')).toHaveValue('');
  });

  it('says why when the cluster refuses custom strategies', async () => {
    const refused = new ApiError(409, 'Custom strategies are not available', 'they need the docker runner', {});
    render(<StrategyEditor customNames={[]} upload={vi.fn().mockRejectedValue(refused)} loadSource={vi.fn()} />);
    await typeAndUpload(SOURCE);
    expect(await screen.findByTestId('upload-failed')).toHaveTextContent('they need the docker runner');
  });
});

describe('annotate and offsetOf', () => {
  it('pair each diagnostic with its line and find 1-based positions', () => {
    const [first] = annotate('a\nbb\r\nccc', [{ id: 'X', severity: 'error', line: 3, column: 2, message: 'm' }]);
    expect(first.text).toBe('ccc');
    expect(offsetOf('a\nbb\nccc', 3, 2)).toBe(6);
  });
});
