export interface Order {
  id: number;
  item: string;
  quantity: number;
  by: string;
  at: string;
}

/** The demo's orders, in memory and bounded (the oldest go first). */
export class OrderBook {
  private readonly orders: Order[] = [];
  private nextId = 1;

  constructor(private readonly max = 1000) {}

  list(): Order[] {
    return [...this.orders].reverse();
  }

  add(item: string, quantity: number, by: string): Order {
    const order = { id: this.nextId++, item, quantity, by, at: new Date().toISOString() };
    this.orders.push(order);
    if (this.orders.length > this.max) this.orders.shift();
    return order;
  }
}
