// Trade-by-trade breakdown: sortable columns, filters by instrument, side and outcome, a search box, pages.
import { useMemo, useState } from 'react';
import { Input, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import type { Trade } from '../api/types';

export function formatDuration(entry: string, exit: string): string {
  const ms = Date.parse(exit) - Date.parse(entry);
  if (!Number.isFinite(ms)) return '—';
  const minutes = ms / 60_000;
  if (minutes < 60) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${Math.round(hours / 24)} d`;
}

const money = (currency: string) => (v: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 2 }).format(v);
const price = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 4 });
const when = (t: string) => t.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z?$/, '$1');

export function TradeAnalysisTable({ trades, currency = 'USD', loading }: { trades: Trade[]; currency?: string; loading?: boolean }) {
  const [search, setSearch] = useState('');
  const fmt = money(currency);
  const instruments = useMemo(() => [...new Set(trades.map((t) => t.instrument))].sort(), [trades]);
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    return q ? trades.filter((t) => `${t.id} ${t.instrument} ${t.side} ${t.entryTime} ${t.exitTime}`.toLowerCase().includes(q)) : trades;
  }, [trades, search]);

  const columns: ColumnsType<Trade> = [
    { title: '#', dataIndex: 'id', width: 60, sorter: (a, b) => a.id - b.id, defaultSortOrder: 'ascend' },
    {
      title: 'Instrument', dataIndex: 'instrument', width: 110,
      filters: instruments.map((i) => ({ text: i, value: i })), onFilter: (v, t) => t.instrument === v,
      sorter: (a, b) => a.instrument.localeCompare(b.instrument),
    },
    {
      title: 'Side', dataIndex: 'side', width: 80,
      filters: [{ text: 'long', value: 'long' }, { text: 'short', value: 'short' }], onFilter: (v, t) => t.side === v,
      render: (s: string) => <Tag color={s === 'long' ? 'blue' : 'purple'}>{s}</Tag>,
    },
    { title: 'Qty', dataIndex: 'quantity', align: 'right', width: 80, sorter: (a, b) => a.quantity - b.quantity, render: price },
    { title: 'Entry time (UTC)', dataIndex: 'entryTime', width: 160, sorter: (a, b) => a.entryTime.localeCompare(b.entryTime), render: when },
    { title: 'Entry', dataIndex: 'entryPrice', align: 'right', width: 90, render: price },
    { title: 'Exit time (UTC)', dataIndex: 'exitTime', width: 160, sorter: (a, b) => a.exitTime.localeCompare(b.exitTime), render: when },
    { title: 'Exit', dataIndex: 'exitPrice', align: 'right', width: 90, render: price },
    {
      title: 'P&L', dataIndex: 'pnl', align: 'right', width: 110, sorter: (a, b) => a.pnl - b.pnl,
      filters: [{ text: 'winners', value: 'win' }, { text: 'losers', value: 'loss' }],
      onFilter: (v, t) => (v === 'win' ? t.pnl > 0 : t.pnl < 0),
      render: (v: number) => <Typography.Text type={v >= 0 ? 'success' : 'danger'}>{fmt(v)}</Typography.Text>,
    },
    {
      title: 'Return', dataIndex: 'returnPct', align: 'right', width: 90, sorter: (a, b) => a.returnPct - b.returnPct,
      render: (v: number) => `${(v * 100).toFixed(2)}%`,
    },
    { title: 'Commission', dataIndex: 'commission', align: 'right', width: 100, sorter: (a, b) => a.commission - b.commission, render: fmt },
    { title: 'MAE', dataIndex: 'mae', align: 'right', width: 100, sorter: (a, b) => a.mae - b.mae, render: fmt },
    { title: 'MFE', dataIndex: 'mfe', align: 'right', width: 100, sorter: (a, b) => a.mfe - b.mfe, render: fmt },
    {
      title: 'Duration', key: 'duration', width: 100,
      sorter: (a, b) => (Date.parse(a.exitTime) - Date.parse(a.entryTime)) - (Date.parse(b.exitTime) - Date.parse(b.entryTime)),
      render: (_, t) => <span title={`${t.barsHeld} bars`}>{formatDuration(t.entryTime, t.exitTime)}</span>,
    },
  ];

  return (
    <div data-testid="trade-table">
      <Space style={{ marginBottom: 8 }}>
        <Input.Search aria-label="Search trades" placeholder="Search trades" allowClear value={search}
          onChange={(e) => setSearch(e.target.value)} style={{ width: 260 }} />
        <Typography.Text type="secondary">{shown.length} of {trades.length} trades</Typography.Text>
      </Space>
      <Table<Trade>
        rowKey="id"
        size="small"
        loading={loading}
        columns={columns}
        dataSource={shown}
        scroll={{ x: 1300 }}
        pagination={{ defaultPageSize: 25, showSizeChanger: true, pageSizeOptions: [25, 50, 100, 250] }}
      />
    </div>
  );
}
