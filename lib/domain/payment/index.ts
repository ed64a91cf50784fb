import type { Decider } from '../shared/decider';
import { PaymentCommand } from './commands';
import { decidePayment, type PaymentContext } from './decide';
import { PaymentEvent, upcastPaymentEvent } from './events';
import { evolvePayment, initialPaymentState, type PaymentState } from './state';

export * from './commands';
export * from './decide';
export * from './errors';
export * from './events';
export * from './state';

export const paymentDecider: Decider<PaymentCommand, PaymentEvent, PaymentState, PaymentContext> = {
  name: 'payment',
  decide: decidePayment,
  evolve: evolvePayment,
  initialState: initialPaymentState,
  commandSchema: PaymentCommand,
  eventSchema: PaymentEvent,
  upcast: upcastPaymentEvent,
};
