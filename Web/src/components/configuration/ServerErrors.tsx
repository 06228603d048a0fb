// Every message of the server's last refusal, at the top of the form.
import { Alert } from 'antd';
import type { ServerError } from './useServerErrors';

export function ServerErrors({ errors }: { errors: ServerError[] }) {
  if (errors.length === 0) return null;
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      data-testid="server-errors"
      style={{ marginBottom: 12 }}
      message="The server did not accept this configuration"
      description={
        <ul style={{ margin: 0, paddingLeft: 18 }}>
          {errors.map((e, i) => (
            <li key={i}>{e.field ? <code>{e.field}</code> : null} {e.message}</li>
          ))}
        </ul>
      }
    />
  );
}
